"""The map: layer catalogue, styles, labels, legends and folium rendering (only here is folium)."""
