/* Telegram's payment sheet for an invoice in Stars, as the sandbox plays it.
 *
 * Tapping Pay on an invoice opens the sheet ("Confirm your purchase"); confirming posts to
 * /sandbox/api/pay_invoice, which has the Telegram stand-in ask the bot (a pre_checkout_query)
 * and waits for its answer, up to Telegram's 10 seconds. The sheet then says how it went: paid,
 * the error_message the bot answered, or that the bot did not answer in time (nothing charged).
 * Every text is set with textContent: titles and the bot's messages are the merchant's.
 */
"use strict";

window.PaymentSheet = (() => {
  const $ = (id) => document.getElementById(id);
  let current = null; // { message } while the sheet is open: the invoice being paid

  function open(message, botName) {
    const invoice = message.invoice;
    current = { message };
    const photo = $("sheet-photo");
    const href = invoice.photo && TgEntities.safeUrl(new URL(invoice.photo, location.href).href);
    photo.hidden = !href;
    if (href) photo.src = href;
    else photo.removeAttribute("src");
    $("sheet-item").textContent = invoice.title;
    $("sheet-description").textContent = invoice.description;
    const question = $("sheet-question");
    question.replaceChildren("Do you want to buy ", bold(invoice.title), " in ", bold(botName),
      " for ", bold(invoice.total), "?");
    show("", "");
    const confirm = $("sheet-confirm");
    confirm.hidden = false;
    confirm.disabled = false;
    confirm.textContent = `Confirm and Pay ${invoice.total}`;
    $("sheet-close").textContent = "Cancel";
    $("sheet").hidden = false;
    confirm.focus();
  }

  function bold(text) {
    const b = document.createElement("b");
    b.textContent = text;
    return b;
  }

  function show(text, kind) {
    const status = $("sheet-status");
    status.textContent = text;
    status.className = `sheet-status ${kind}`;
    status.dataset.outcome = kind;
  }

  async function confirm() {
    if (!current) return;
    const { message } = current;
    const button = $("sheet-confirm");
    button.disabled = true;
    $("sheet-close").disabled = true; // Telegram's sheet waits for the bot too
    show("Waiting for the bot to confirm…", "waiting");
    let outcome;
    try {
      const response = await fetch("/sandbox/api/pay_invoice", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user_id: message.chat_id, message_id: message.message_id }),
      });
      outcome = await response.json();
    } catch {
      outcome = { ok: false, error: "The sandbox did not answer." };
    } finally {
      $("sheet-close").disabled = false;
    }
    if (current === null || current.message !== message) return; // closed meanwhile
    button.hidden = true;
    $("sheet-close").textContent = "Close";
    if (!outcome.ok) {
      show(outcome.error || "The sandbox refused that.", "failed");
    } else if (outcome.outcome === "paid") {
      show(`✅ Paid ${outcome.total}. The bot received the payment.`, "paid");
    } else if (outcome.outcome === "refused") {
      show(outcome.error_message || "The bot refused the payment.", "refused");
    } else {
      show("The bot did not answer in time, so nothing was charged. Try again.", "timeout");
    }
  }

  function close() {
    current = null;
    $("sheet").hidden = true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("sheet-confirm").addEventListener("click", confirm);
    $("sheet-close").addEventListener("click", close);
  });

  return { open };
})();
