/* Telegram message entities → DOM, the way Telegram clients show formatted text.
 *
 * The stand-in keeps what Telegram keeps: the plain text plus entities (offsets and lengths in
 * UTF-16 code units, which is how JavaScript indexes strings). Rendering builds elements and
 * text nodes only; nothing from a message is ever parsed as HTML.
 */
"use strict";

const TgEntities = (() => {
  const TAGS = {
    bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code",
    pre: "pre", blockquote: "blockquote", expandable_blockquote: "blockquote",
    spoiler: "span", text_link: "a", url: "a", bot_command: "a", custom_emoji: "span",
  };
  // Inside these, plain text is shown as is: no links or commands are detected.
  const VERBATIM = new Set(["code", "pre", "text_link", "url", "bot_command"]);
  const DETECT = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])|((?<![\w/])\/[A-Za-z0-9_]{1,32}(?![\w/]))/g;

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = text;
    return a;
  }

  function command(text, onCommand) {
    const a = document.createElement("a");
    a.href = "#";
    a.className = "command";
    a.textContent = text;
    a.addEventListener("click", (event) => {
      event.preventDefault();
      onCommand(text);
    });
    return a;
  }

  /* Plain text, with links and /commands made clickable as Telegram clients do. */
  function appendText(parent, text, options) {
    if (!options.detect) {
      parent.append(text);
      return;
    }
    let last = 0;
    for (const match of text.matchAll(DETECT)) {
      parent.append(text.slice(last, match.index));
      if (match[1]) {
        const href = safeUrl(match[1]);
        parent.append(href ? link(href, match[1]) : match[1]);
      } else {
        parent.append(options.onCommand ? command(match[2], options.onCommand) : match[2]);
      }
      last = match.index + match[0].length;
    }
    parent.append(text.slice(last));
  }

  function elementFor(entity, text, options) {
    const tag = TAGS[entity.type] || "span";
    const element = document.createElement(tag);
    if (entity.type === "spoiler") {
      element.className = "spoiler";
      element.title = "Spoiler: click to show";
      element.addEventListener("click", () => element.classList.add("shown"), { once: true });
    } else if (entity.type === "text_link" || entity.type === "url") {
      const href = safeUrl(entity.type === "url"
        ? text.slice(entity.offset, entity.offset + entity.length) : entity.url);
      if (href) {
        element.href = href;
        element.target = "_blank";
        element.rel = "noopener noreferrer";
      }
    } else if (entity.type === "bot_command" && options.onCommand) {
      const value = text.slice(entity.offset, entity.offset + entity.length);
      element.href = "#";
      element.className = "command";
      element.addEventListener("click", (event) => {
        event.preventDefault();
        options.onCommand(value);
      });
    } else if (entity.type === "expandable_blockquote") {
      element.className = "expandable";
    }
    return element;
  }

  /* Fill `parent` with text[start, end) and the entities inside it (sorted, nested). */
  function build(parent, text, start, end, list, options) {
    let position = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      const entityEnd = Math.min(entity.offset + entity.length, end);
      let j = i + 1;
      while (j < list.length && list[j].offset < entityEnd) j += 1;
      if (entity.offset >= position) {
        appendText(parent, text.slice(position, entity.offset), options);
        const element = elementFor(entity, text, options);
        const inner = { ...options, detect: options.detect && !VERBATIM.has(entity.type) };
        build(element, text, entity.offset, entityEnd, list.slice(i + 1, j), inner);
        parent.append(element);
        position = entityEnd;
      }
      i = j;
    }
    appendText(parent, text.slice(position, end), options);
  }

  /* A fragment showing `text` with `entities`; options: {detect, onCommand}. */
  function render(text, entities, options = {}) {
    const fragment = document.createDocumentFragment();
    const sorted = [...(entities || [])]
      .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    build(fragment, text || "", 0, (text || "").length, sorted, { detect: true, ...options });
    return fragment;
  }

  return { render, safeUrl };
})();
