-- Lookup of an uploaded file by its SM3 (verification upload, R-6.3b: "is this exact file one
-- we issued?").
CREATE INDEX certificates_by_file_sm3 ON certificates (file_sm3);
CREATE INDEX supplements_by_file_sm3 ON supplements (file_sm3);
