import pytest

from data_converters import get_converter, list_converters, register_converter
from data_converters.base import Converter
from data_converters.fakes import FAKES
from ts_instruct.errors import ConfigError, UnknownConverterError


def test_every_converter_is_registered_once_with_a_fake():
    names = [c.name for c in list_converters()]
    assert len(names) == len(set(names))
    assert set(names) == set(FAKES), "every converter needs a fake raw dataset generator (and vice versa)"


def test_every_converter_documents_itself():
    for cls in list_converters():
        d = cls.describe()
        assert d["title"] and d["layout"] and d["license"] and d["homepage"], cls.name
        assert cls.__doc__ and "Dataset format" in cls.__doc__, f"{cls.name} docstring lacks 'Dataset format'"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownConverterError, match="did you mean 'nwpu_resisc45'"):
        get_converter("nwpu_resisc")


def test_duplicate_registration_names_both_classes():
    cls = get_converter("nwpu_resisc45")

    class Again(cls):  # type: ignore[misc, valid-type]
        pass

    with pytest.raises(UnknownConverterError, match="registered twice"):
        register_converter(Again)


def test_unknown_option_and_version_are_rejected(tmp_path):
    cls = get_converter("nwpu_resisc45")
    with pytest.raises(ConfigError, match="unknown option"):
        cls(tmp_path, patch=3)
    with pytest.raises(ConfigError, match="version must be one of"):
        cls(tmp_path, version="v9")
    assert issubclass(cls, Converter)
