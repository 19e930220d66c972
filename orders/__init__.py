"""Online orders: cart, checkout, Midtrans payments, and the gerai's handling of orders.

`states` is the order's state machine, `services` its rules and transactions, `limits` what one
shopper may hold, `midtrans` the payment gateway boundary, `routes` the thin HTTP layer.
"""
