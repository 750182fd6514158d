"""``Extraction``: one DataGOL extraction configuration, managed create/update/delete/read.

The core (:mod:`.checks`, :mod:`.body`, :mod:`.lifecycle`) is shared by the Python face
(:mod:`.resource`) and the packaged plugin; it is separate from the runs' modules, whose
lifecycle (a paid job per create) is another one.
"""
