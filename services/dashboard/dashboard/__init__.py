"""Read-only web dashboard over the gold layer (server-rendered HTML, inline SVG, JSON API)."""
