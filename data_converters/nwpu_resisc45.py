"""NWPU-RESISC45 scene classification."""

from __future__ import annotations

from typing import ClassVar

from data_converters.families.classification import ClassificationFolderConverter


class NWPURESISC45(ClassificationFolderConverter):
    """NWPU-RESISC45: REmote Sensing Image Scene Classification, 45 classes.

    Homepage: https://gcheng-nwpu.github.io/#Datasets

    Dataset features:
        * 31,500 RGB JPEG images of 256x256 pixels, 700 per class
        * 45 scene classes, ground sample distance from about 0.2 m to 30 m
        * images from Google Earth

    Dataset format:
        * one folder per class; file names ``<class>_NNN.jpg`` with ``NNN`` = 001..700
        * some mirrors name folders with spaces (``baseball diamond``) instead of underscores; both are read, and the
          class always comes from the folder, never from the file name
        * optional split files with one bare file name per line, e.g. ``airplane_001.jpg``

    On disk::

        <root>/
          NWPU-RESISC45/            (or the class folders directly under <root>)
            airplane/airplane_001.jpg ... airplane_700.jpg
            ...
            wetland/wetland_700.jpg
          resisc45-train.txt        (optional)
          resisc45-val.txt          (optional)
          resisc45-test.txt         (optional)

    Classes (0-based index = position in :attr:`classes`): airplane, airport, baseball_diamond, basketball_court,
    beach, bridge, chaparral, church, circular_farmland, cloud, commercial_area, dense_residential, desert, forest,
    freeway, golf_course, ground_track_field, harbor, industrial_area, intersection, island, lake, meadow,
    medium_residential, mobile_home_park, mountain, overpass, palace, parking_lot, railway, railway_station,
    rectangular_farmland, river, roundabout, runway, sea_ice, ship, snowberg, sparse_residential, stadium, storage_tank,
    tennis_court, terrace, thermal_power_station, wetland.

    Splits:
        There is no official split. When the files ``resisc45-{train,val,test}.txt`` are present (the 60/20/20
        "In-domain representation learning" split of Neumann et al. 2019, used by torchgeo: 18,900 / 6,300 / 6,300),
        they define the splits. Otherwise a seeded hash of each image's relative path assigns it (60/20/20), stable
        when files are added or removed.

    License:
        Research use; cite the paper (terms not stated explicitly by the authors).

    Citation:
        G. Cheng, J. Han, X. Lu, "Remote Sensing Image Scene Classification: Benchmark and State of the Art",
        Proc. IEEE 105(10), 2017. https://doi.org/10.1109/JPROC.2017.2675998
    """

    name = "nwpu_resisc45"
    title = "NWPU-RESISC45"
    homepage = "https://gcheng-nwpu.github.io/#Datasets"
    license = "research use; cite Cheng et al., Proc. IEEE 2017"
    layout = "NWPU-RESISC45/<class>/<class>_NNN.jpg (+ optional resisc45-{train,val,test}.txt)"
    image_dirs = ("NWPU-RESISC45", ".")
    split_files: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("resisc45-train.txt",),
        "val": ("resisc45-val.txt",),
        "test": ("resisc45-test.txt",),
    }
    classes = (
        "airplane", "airport", "baseball_diamond", "basketball_court", "beach", "bridge", "chaparral", "church",
        "circular_farmland", "cloud", "commercial_area", "dense_residential", "desert", "forest", "freeway",
        "golf_course", "ground_track_field", "harbor", "industrial_area", "intersection", "island", "lake", "meadow",
        "medium_residential", "mobile_home_park", "mountain", "overpass", "palace", "parking_lot", "railway",
        "railway_station", "rectangular_farmland", "river", "roundabout", "runway", "sea_ice", "ship", "snowberg",
        "sparse_residential", "stadium", "storage_tank", "tennis_court", "terrace", "thermal_power_station",
        "wetland",
    )  # fmt: skip
