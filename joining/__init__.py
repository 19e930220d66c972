"""Joining the cooperative's gerai: a public request form (/titip-produk) and the pengurus' decision."""
