-- 011: the geography layers as the app reads them back. Each layer records its columns
-- with their dtypes and the CRS text of its geography, so a stored geography is read back
-- as the same frames (gis/store/geo_layers.py) without deriving fronts or segments again;
-- layers loaded before have NULL here and are read as before. The staff table gains each
-- person's usual shift (the staff table file's column), '' where none is known.
ALTER TABLE geo_layers ADD COLUMN IF NOT EXISTS columns jsonb;
ALTER TABLE geo_layers ADD COLUMN IF NOT EXISTS crs text;
ALTER TABLE staff ADD COLUMN IF NOT EXISTS shift text NOT NULL DEFAULT '';
