"""The imaging path: source bytes -> decoded pixels -> renditions -> encoded thumbnails. No I/O,
no boto3, no process-wide Pillow settings.

The rest of the function uses the names below; the modules beside this one are the path's own.
"""

from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.crop import parse_focal_point
from create_thumbnail.imaging.readers.sniff import read_in_ranges
from create_thumbnail.imaging.thumbnails import Rendered, Thumbnail, make_renditions, make_thumbnails

__all__ = ["Budget", "Rendered", "Thumbnail", "make_renditions", "make_thumbnails", "parse_focal_point", "read_in_ranges"]
