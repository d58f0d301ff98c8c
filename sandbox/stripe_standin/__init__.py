"""The Stripe stand-in, one module per concern (the class is assembled in `server`):

errors and schema (`errors`, `schema`, `params`), reference data (`reference`), the stand-in's
state and lookups (`state`), what sessions refer to (`catalog`), Checkout Sessions
(`sessions`), events and signing (`events`), payments and refunds (`payments`), and the HTTP
server with its idempotency, faults and rate limit (`server`).
"""
