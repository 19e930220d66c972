"""Dynamic QRIS at the counter through Midtrans' Core API.

`models` holds the counter payment (its status is a state machine, moved only by compare-and-set) and
the snapshot of the cart it charges; `services` charges, holds the lots, confirms the payment with
Midtrans and turns the hold into the sale exactly once; `routes` is the kasir's QR screen.
"""
