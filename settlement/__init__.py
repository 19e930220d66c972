"""Settlement: periods, member statements (payouts), payments, and public transparency figures."""
