-- 006: the geography layers in the database, for spatial SQL (zone lookup, "what is here",
-- per-segment counts and density grids). Geometries keep the geography's metric CRS
-- (recorded in geo_layers.srid, e.g. 32650) so distances are metres and the GiST indexes
-- serve ST_Contains / ST_DWithin directly. `ord` keeps the file order (first match wins,
-- as in the in-memory lookups); `props` holds the layer's other columns.
CREATE TABLE geo_layers (
    layer       text PRIMARY KEY CHECK (layer IN ('boundary', 'lakes', 'fronts', 'zones',
                    'streets', 'segments', 'pois')),
    srid        integer NOT NULL,
    n_features  integer NOT NULL,
    source      text NOT NULL DEFAULT '',
    loaded_by   text NOT NULL DEFAULT '',
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE geo_features (
    layer       text NOT NULL REFERENCES geo_layers (layer) ON DELETE CASCADE,
    ord         integer NOT NULL,
    feature_id  text NOT NULL,
    name        text NOT NULL DEFAULT '',
    zone_id     text,
    front_id    text,
    props       jsonb NOT NULL DEFAULT '{}',
    geom        geometry NOT NULL,
    PRIMARY KEY (layer, ord)
);
CREATE INDEX geo_features_id ON geo_features (layer, feature_id);
CREATE INDEX geo_boundary_gist ON geo_features USING gist (geom) WHERE layer = 'boundary';
CREATE INDEX geo_fronts_gist ON geo_features USING gist (geom) WHERE layer = 'fronts';
CREATE INDEX geo_zones_gist ON geo_features USING gist (geom) WHERE layer = 'zones';
CREATE INDEX geo_segments_gist ON geo_features USING gist (geom) WHERE layer = 'segments';
CREATE INDEX geo_pois_gist ON geo_features USING gist (geom) WHERE layer = 'pois';
