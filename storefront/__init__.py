"""Public storefront and cooperative microsite."""
