"""The Telegram Bot API stand-in, one module per concern (the class is assembled in `server`):

the wire protocol and limits (`protocol`), records tests inspect (`records`), HTML and
entities (`entities`), reply markup (`markup`), state (`state`), simulated users (`users`,
paying invoices included), Bot API methods (`bot_methods`, `message_methods`, `payments` for
Telegram Stars) and the HTTP server with flood control (`server`).
"""
