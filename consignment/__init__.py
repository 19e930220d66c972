"""Consignment (titip jual) in the gerai: agreements, intake lots, the stock ledger, counter sales, returns."""
