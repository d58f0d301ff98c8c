"""The merchant's chat, for ADMIN_IDS only: products, the new-product wizard, stock, orders,
shipping, refunds and sales (routes in `routes`, every one re-checking the admin)."""
