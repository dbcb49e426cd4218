# An independent reader of mongodump files: PyMongo's bson.decode_file_iter decodes every document, re-encodes it, and prints its sha256.
import gzip
import hashlib
import json
import sys

import bson
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.binary import UuidRepresentation
from bson.son import SON

# Keep every value as its BSON type (key order, int32 vs int64, binary subtypes, dates out of range).
OPTIONS = CodecOptions(
    document_class=SON,
    tz_aware=True,
    uuid_representation=UuidRepresentation.UNSPECIFIED,
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
)

out = {}
for path in sys.argv[1:]:
    with gzip.open(path, "rb") as f:
        hashes = [hashlib.sha256(bson.encode(doc, codec_options=OPTIONS)).hexdigest() for doc in bson.decode_file_iter(f, codec_options=OPTIONS)]
    out[path] = hashes
json.dump(out, sys.stdout)
