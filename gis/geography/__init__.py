"""Geography: validated layers, the street network, OSM import, CRS and datums, what is at a point."""
