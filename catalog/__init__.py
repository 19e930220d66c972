"""Catalog: categories, members' products, photos and search."""
