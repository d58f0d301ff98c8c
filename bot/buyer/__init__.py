"""The buyer's chat: catalog, product card, Buy, their orders, support (routes in `routes`)."""
