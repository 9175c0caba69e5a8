"""Data sets: locating, downloading and parsing the book's files; vocabularies."""
