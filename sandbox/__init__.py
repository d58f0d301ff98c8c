"""Local stand-ins for the Telegram Bot API and Stripe, strict like the real services.

The tests drive the bot through them over real HTTP, and the sandbox (`make run` without
credentials) plays the whole shop in a browser on top of them: one implementation for both.
"""
