"""HTTP entrypoints: the JSON API and the HTML pages (thin: parse, authorise, render)."""
