/* The sandbox page: play buyers and the admin against the real bot, watch Stripe's webhooks.
 *
 * State arrives on one Server-Sent Events stream (/sandbox/api/stream): messages (new and
 * edited), answers to button taps, webhook deliveries and delayed payments waiting to settle.
 * Typing and tapping are plain JSON POSTs; the bot then receives them by getUpdates.
 */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    personas: [],
    languages: [], // the shop's offered languages: [{code, name}]
    active: null,
    chats: new Map(), // chat id -> Map(key -> message item)
    unread: new Map(),
    webhooks: new Map(),
    waiting: [],
    bot: null,
    // Whether the chat shows its newest message: new ones, and photos that finish loading
    // late, then keep it in view. Scrolling up to read turns it off until back at the bottom.
    pinned: true,
  };

  // --- talking to the server -----------------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    if (!response.ok) {
      let message = `The sandbox refused that (${response.status}).`;
      try {
        message = (await response.json()).error || message;
      } catch { /* not JSON */ }
      toast(message);
      return false;
    }
    return true;
  }

  function send(text) {
    return post("/sandbox/api/send", { user_id: state.active, text });
  }

  function tap(message, data, button) {
    button.classList.add("pending");
    setTimeout(() => button.classList.remove("pending"), 3000);
    return post("/sandbox/api/tap", { user_id: message.chat_id, message_id: message.message_id, data });
  }

  function connect() {
    const stream = new EventSource("/sandbox/api/stream");
    stream.addEventListener("items", (event) => apply(JSON.parse(event.data)));
    stream.addEventListener("error", () => document.body.classList.add("offline"));
    stream.addEventListener("open", () => document.body.classList.remove("offline"));
  }

  function apply(batch) {
    if (batch.initial) {
      state.chats.clear();
      state.webhooks.clear();
      $("messages").replaceChildren();
    }
    for (const item of batch.items) {
      if (item.type === "message") applyMessage(item, batch.initial);
      else if (item.type === "answer") applyAnswer(item);
      else if (item.type === "webhook") state.webhooks.set(item.number, item);
      else if (item.type === "waiting") state.waiting = item.sessions;
    }
    if (batch.initial) renderChat();
    renderPersonas();
    renderEvents();
    updateStart();
  }

  function applyMessage(item, initial) {
    let chat = state.chats.get(item.chat_id);
    if (!chat) state.chats.set(item.chat_id, (chat = new Map()));
    const isNew = !chat.has(item.key);
    chat.set(item.key, item);
    if (item.chat_id === state.active) {
      if (!initial) renderMessage(item);
    } else if (isNew && !initial && item.from === "bot") {
      state.unread.set(item.chat_id, (state.unread.get(item.chat_id) || 0) + 1);
    }
  }

  function applyAnswer(item) {
    document.querySelectorAll(".kb.pending").forEach((b) => b.classList.remove("pending"));
    if (item.chat_id !== state.active || !item.text) return;
    if (item.alert) showAlert(item.text);
    else toast(item.text);
  }

  // --- the chat ------------------------------------------------------------------------------

  function scrollToEnd() {
    const box = $("messages");
    box.scrollTop = box.scrollHeight;
    state.pinned = true;
  }

  function renderChat() {
    const box = $("messages");
    box.replaceChildren();
    const chat = state.chats.get(state.active) || new Map();
    [...chat.values()].sort((a, b) => a.message_id - b.message_id).forEach(renderMessage);
    scrollToEnd();
  }

  function renderMessage(item) {
    const box = $("messages");
    const old = box.querySelector(`[data-key="${CSS.escape(item.key)}"]`);
    if (item.deleted) {
      if (old) old.remove();
      return;
    }
    const element = messageElement(item);
    if (old) {
      old.replaceWith(element);
    } else {
      const later = [...box.children].find((c) => Number(c.dataset.id) > item.message_id);
      box.insertBefore(element, later || null);
    }
    if (!old && (state.pinned || item.from === "user")) scrollToEnd();
  }

  function messageElement(item) {
    const row = document.createElement("div");
    row.className = `msg ${item.from}`;
    row.dataset.key = item.key;
    row.dataset.id = item.message_id;
    if (item.from === "service") {
      // Telegram's own note in the chat (a payment made or refunded): a centred pill.
      const note = document.createElement("div");
      note.className = "service-note";
      note.textContent = item.service;
      row.append(note);
      return row;
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (item.photo !== undefined && item.photo !== null) bubble.append(photoElement(item.photo));
    if (item.invoice) bubble.append(invoiceElement(item.invoice));
    if (item.document) {
      const doc = document.createElement("div");
      doc.className = "document";
      doc.textContent = "📄 a file";
      bubble.append(doc);
    }
    if (item.text) {
      const text = document.createElement("div");
      text.className = "text";
      text.dir = "auto";  // each paragraph takes its own direction, as in Telegram (app.css)
      const onCommand = item.from === "bot" ? (command) => send(command) : undefined;
      text.append(TgEntities.render(item.text, item.entities, { onCommand, detect: item.from === "bot" }));
      bubble.append(text);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = (item.edited ? "edited " : "") + clock(item.date);
    bubble.append(meta);
    row.append(bubble);
    if (item.buttons && item.buttons.length) row.append(keyboard(item));
    return row;
  }

  // An invoice as Telegram's apps draw it: the product's photo, its title and description,
  // and the total in Stars; the Pay button is on the keyboard below.
  function invoiceElement(invoice) {
    const box = document.createElement("div");
    box.className = "invoice";
    if (invoice.photo) box.append(photoElement(invoice.photo));
    const title = document.createElement("div");
    title.className = "invoice-title";
    title.textContent = invoice.title;
    const description = document.createElement("div");
    description.className = "invoice-description";
    description.textContent = invoice.description;
    const total = document.createElement("div");
    total.className = "invoice-total";
    total.textContent = invoice.total;
    box.append(title, description, total);
    return box;
  }

  function photoElement(url) {
    const href = url && TgEntities.safeUrl(new URL(url, location.href).href);
    if (!href) {
      const placeholder = document.createElement("div");
      placeholder.className = "photo placeholder";
      placeholder.textContent = "🖼 photo";
      return placeholder;
    }
    const img = document.createElement("img");
    img.className = "photo";
    img.src = href;
    img.alt = "photo";
    img.loading = "lazy";
    // The photo arrives after its message was placed: it grows the chat, so follow it down.
    img.addEventListener("load", () => { if (state.pinned) scrollToEnd(); });
    return img;
  }

  function keyboard(message) {
    const board = document.createElement("div");
    board.className = "keyboard";
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "kb-row";
      for (const button of row) line.append(keyButton(message, button));
      board.append(line);
    }
    return board;
  }

  function keyButton(message, button) {
    const href = button.url && TgEntities.safeUrl(button.url);
    if (href) {
      const a = document.createElement("a");
      a.className = "kb url";
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = button.text;
      a.dir = "auto";
      a.title = href;
      return a;
    }
    const element = document.createElement("button");
    element.type = "button";
    element.className = "kb";
    element.textContent = button.text;
    element.dir = "auto";
    if (button.pay) {
      // The invoice's pay button opens Telegram's payment sheet; a paid invoice offers none.
      element.classList.add("pay");
      if (message.invoice && message.invoice.paid) {
        element.textContent = "✓ Paid";
        element.disabled = true;
      } else {
        element.addEventListener("click", () => PaymentSheet.open(message, state.bot.name));
      }
      return element;
    }
    if (button.data === undefined) element.disabled = true;
    else element.addEventListener("click", () => tap(message, button.data, element));
    return element;
  }

  // Telegram opens t.me links to a bot inside the app: /start (with the link's payload) in that
  // chat. The sandbox does the same for its own bot, as the persona playing: the real t.me
  // knows nothing of the sandbox's bot. (/sandbox/t.me/… is the shop's pages' version.)
  function botLinkPayload(href) {
    let url;
    try {
      url = new URL(href, location.href);
    } catch {
      return null;
    }
    const tme = ["t.me", "telegram.me"].includes(url.hostname);
    const local = url.origin === location.origin && url.pathname.startsWith("/sandbox/t.me/");
    const name = url.pathname.split("/").filter(Boolean).pop() || "";
    if (!(tme || local) || !state.bot || name.toLowerCase() !== state.bot.username.toLowerCase()) {
      return null;
    }
    return url.searchParams.get("start") || "";
  }

  function openBotLink(payload) {
    send(payload ? `/start ${payload}` : "/start");
  }

  function clock(seconds) {
    if (!seconds) return "";
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function updateStart() {
    const chat = state.chats.get(state.active);
    $("start").hidden = Boolean(chat && chat.size);
  }

  // --- personas ------------------------------------------------------------------------------

  function renderPersonas() {
    const nav = $("personas");
    nav.replaceChildren();
    for (const persona of state.personas) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "persona";
      button.dataset.persona = persona.id;
      button.setAttribute("aria-pressed", String(persona.id === state.active));
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = persona.name;
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = `${persona.role} · ${persona.id}`;
      button.title = `Telegram user id ${persona.id}`;
      button.append(name, detail);
      const unread = state.unread.get(persona.id);
      if (unread) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = unread;
        button.append(badge);
      }
      button.addEventListener("click", () => choose(persona.id));
      nav.append(button);
    }
  }

  function choose(id) {
    state.active = id;
    state.unread.delete(id);
    try {
      localStorage.setItem("sandbox-persona", String(id));
    } catch { /* storage off: the hash still says who plays */ }
    const persona = state.personas.find((p) => p.id === id);
    $("who").textContent = `you are ${persona.name} (${persona.role}, id ${persona.id})`;
    renderLanguage(persona);
    history.replaceState(null, "", `#${id}`);
    closeMenu();
    renderPersonas();
    renderChat();
    updateStart();
    $("text").focus();
  }

  // --- the persona's app language --------------------------------------------------------------

  // Each persona's Telegram app has a language; the bot reads it from every update. The sandbox
  // keeps it for this run only (a restart starts everyone in English again).
  function renderLanguage(persona) {
    const select = $("language");
    select.replaceChildren();
    const offered = state.languages.some((l) => l.code === persona.language);
    const choices = offered ? state.languages
      : [{ code: persona.language, name: `${persona.language} (not offered)` }, ...state.languages];
    for (const { code, name } of choices) {
      const option = document.createElement("option");
      option.value = code;
      option.textContent = name;
      select.append(option);
    }
    select.value = persona.language;
  }

  async function switchLanguage() {
    const persona = state.personas.find((p) => p.id === state.active);
    const code = $("language").value;
    const response = await fetch("/sandbox/api/language", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: persona.id, language: code }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      toast(answer.error || `The sandbox refused that (${response.status}).`);
    } else {
      persona.language = answer.language;
      persona.commands = answer.commands;
      const name = (state.languages.find((l) => l.code === answer.language) || {}).name;
      toast(`${persona.name}'s Telegram app now speaks ${name || answer.language}.`);
    }
    renderLanguage(persona);
  }

  // --- composer and command menu ---------------------------------------------------------------

  function setUpComposer() {
    const text = $("text");
    $("composer").addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = text.value;
      if (!value.trim()) return;
      text.value = "";
      resize();
      if (!(await send(value))) text.value = value;
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    const resize = () => {
      text.style.height = "auto";
      text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
    };
    text.addEventListener("input", resize);
    $("start-button").addEventListener("click", () => send("/start"));
    $("menu-button").addEventListener("click", toggleMenu);
    $("attach-button").addEventListener("click", () => $("photo-input").click());
    $("photo-input").addEventListener("change", async () => {
      const file = $("photo-input").files[0];
      $("photo-input").value = "";
      if (!file) return;
      const caption = text.value;
      text.value = "";
      resize();
      if (!(await sendPhoto(file, caption))) text.value = caption;
    });
  }

  // A phone sends photos as JPEG, scaled down; here they are also kept small enough for the
  // sandbox (MAX_PHOTO_BYTES in sandbox/chats.py), lowering the quality until they fit.
  const PHOTO_MAX_SIDE = 1280;
  const PHOTO_MAX_BYTES = 170 * 1024;

  async function sendPhoto(file, caption) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      toast("That file is not a photo this browser can read.");
      return false;
    }
    const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    let width = Math.max(1, Math.round(bitmap.width * scale));
    let height = Math.max(1, Math.round(bitmap.height * scale));
    let blob = null;
    for (let quality = 0.85; ; quality -= 0.15) {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
      blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
      if (!blob || blob.size <= PHOTO_MAX_BYTES) break;
      if (quality < 0.4) {
        width = Math.max(1, Math.round(width * 0.7));
        height = Math.max(1, Math.round(height * 0.7));
        quality = 1.0;
      }
    }
    if (!blob) {
      toast("That photo could not be prepared.");
      return false;
    }
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return post("/sandbox/api/photo", {
      user_id: state.active, data: btoa(binary), width, height, caption,
    });
  }

  function toggleMenu() {
    const menu = $("menu");
    if (!menu.hidden) return closeMenu();
    const persona = state.personas.find((p) => p.id === state.active);
    menu.replaceChildren();
    for (const { command, description } of persona.commands) {
      const item = document.createElement("button");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      const name = document.createElement("b");
      name.textContent = `/${command}`;
      item.append(name, ` ${description}`);
      item.addEventListener("click", () => {
        closeMenu();
        const text = $("text");
        if (description.includes("<")) {
          text.value = `/${command} `; // takes arguments: let the visitor type them
          text.focus();
        } else {
          send(`/${command}`);
        }
      });
      menu.append(item);
    }
    menu.hidden = false;
    $("menu-button").setAttribute("aria-expanded", "true");
  }

  function closeMenu() {
    $("menu").hidden = true;
    $("menu-button").setAttribute("aria-expanded", "false");
  }

  // --- the events panel ----------------------------------------------------------------------

  function renderEvents() {
    const list = $("webhooks");
    list.replaceChildren();
    const deliveries = [...state.webhooks.values()].sort((a, b) => b.number - a.number);
    for (const delivery of deliveries) list.append(webhookElement(delivery));
    $("no-webhooks").hidden = deliveries.length > 0;
    $("events-count").textContent = deliveries.length;
    renderWaiting();
  }

  function webhookElement(delivery) {
    const item = document.createElement("li");
    const ok = delivery.status !== null && delivery.status >= 200 && delivery.status < 300;
    item.className = `webhook ${ok ? "ok" : "failed"}`;
    item.dataset.number = delivery.number;
    const line = document.createElement("div");
    line.className = "wh-line";
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = delivery.status === null ? "no answer" : delivery.status;
    const type = document.createElement("code");
    type.className = "type";
    type.textContent = delivery.event_type;
    const ms = document.createElement("span");
    ms.className = "ms";
    ms.textContent = `${delivery.ms} ms`;
    line.append(status, type, ms);
    const sub = document.createElement("div");
    sub.className = "wh-sub";
    const when = new Date(delivery.at * 1000).toLocaleTimeString();
    sub.textContent = `#${delivery.number} · ${delivery.event_id} · ${when}`
      + (delivery.resend_of ? ` · resend of #${delivery.resend_of}` : "");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "The bot's answer";
    const answer = document.createElement("pre");
    answer.textContent = delivery.answer || "(empty)";
    details.append(summary, answer);
    const resend = document.createElement("button");
    resend.type = "button";
    resend.className = "resend";
    resend.textContent = "Resend";
    resend.addEventListener("click", async () => {
      resend.disabled = true;
      await post(`/sandbox/api/webhooks/${delivery.number}/resend`);
      resend.disabled = false;
    });
    item.append(line, sub, details, resend);
    return item;
  }

  function renderWaiting() {
    const box = $("waiting");
    box.replaceChildren();
    for (const session of state.waiting) {
      const card = document.createElement("div");
      card.className = "waiting";
      card.dataset.session = session.id;
      const text = document.createElement("p");
      const order = document.createElement("b");
      order.textContent = session.order ? `Order #${session.order}` : "An order";
      text.append(order, ` (${session.what}, ${session.total}): a delayed payment is processing.`);
      const code = document.createElement("code");
      code.className = "wh-sub";
      code.textContent = session.id;
      const settle = document.createElement("button");
      settle.type = "button";
      settle.textContent = "Settle";
      const path = `/sandbox/api/sessions/${encodeURIComponent(session.id)}`;
      settle.addEventListener("click", () => post(`${path}/settle`));
      const fail = document.createElement("button");
      fail.type = "button";
      fail.textContent = "Fail";
      fail.addEventListener("click", () => post(`${path}/fail`));
      card.append(text, code, settle, fail);
      box.append(card);
    }
  }

  // --- toasts and alerts ---------------------------------------------------------------------

  let toastTimer = 0;
  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.dir = "auto";
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
  }

  function showAlert(text) {
    $("alert-text").textContent = text;
    $("alert-text").dir = "auto";
    $("alert").hidden = false;
    $("alert-ok").focus();
  }

  // --- start ---------------------------------------------------------------------------------

  async function main() {
    const setup = await (await fetch("/sandbox/api/setup")).json();
    state.personas = setup.personas;
    state.languages = setup.languages;
    state.bot = setup.bot;
    $("language").addEventListener("change", switchLanguage);
    $("bot-name").textContent = setup.bot.name;
    $("bot-sub").textContent = `@${setup.bot.username} · bot`;
    $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
    const showEvents = (open) => {
      document.body.classList.toggle("events-open", open);
      $("events-toggle").setAttribute("aria-expanded", String(open));
    };
    $("events-toggle").addEventListener("click", () => {
      showEvents(!document.body.classList.contains("events-open"));
    });
    $("events-close").addEventListener("click", () => showEvents(false));
    setUpComposer();
    const box = $("messages");
    box.addEventListener("scroll", () => {
      state.pinned = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    });
    box.addEventListener("click", (event) => {
      const link = event.target.closest("a[href]");
      const payload = link && botLinkPayload(link.href);
      if (payload === null || payload === undefined) return;
      event.preventDefault();
      openBotLink(payload);
    });
    let remembered = NaN;
    try {
      remembered = Number(localStorage.getItem("sandbox-persona"));
    } catch { /* storage off */ }
    const wanted = Number(location.hash.slice(1)) || remembered;
    const first = state.personas.find((p) => p.id === wanted) || state.personas[0];
    choose(first.id);
    // Arrived through a t.me link (/sandbox/t.me/<bot>?start=…): open the chat as Telegram does.
    const start = new URLSearchParams(location.search).get("start");
    if (start !== null) {
      history.replaceState(null, "", `/sandbox#${first.id}`);
      openBotLink(start);
    }
    connect();
  }

  main();
})();
