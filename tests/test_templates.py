import pytest

from ts_instruct.templates import POOLS, choose, display_name, lettered, plural, rng_for


def test_choice_depends_only_on_seed_key_and_pool():
    a = [choose("caption", seed=0, key=f"k{i}") for i in range(50)]
    b = [choose("caption", seed=0, key=f"k{i}") for i in reversed(range(50))][::-1]
    assert a == b  # order of calls does not matter
    assert len(set(a)) > 1  # the pool is actually used
    assert [choose("caption", seed=1, key=f"k{i}") for i in range(50)] != a


def test_rng_streams_differ_by_purpose():
    assert rng_for(0, "k", "a").random() != rng_for(0, "k", "b").random()


def test_every_pool_formats_with_its_placeholders():
    fields = dict(
        cls="ship",
        cls_plural="ships",
        geom="boxes",
        choices="A. x",
        box="(1,2)",
        n=3,
        question="q",
        expr="the ship",
        classes="a, b",
        year1=2017,
        year2=2018,
    )
    for name, pool in POOLS.items():
        assert pool, name
        for template in pool:
            template.format(**fields)


def test_unknown_pool_names_the_known_ones():
    with pytest.raises(KeyError, match="known pools"):
        choose("nope", seed=0, key="k")


@pytest.mark.parametrize(
    "inp, expected",
    [
        ("storage-tank", "storage tank"),  # hyphenated DOTA class
        ("baseball_diamond", "baseball diamond"),  # underscored folder name
        ("ship", "ship"),  # plain
    ],
)
def test_display_name(inp, expected):
    assert display_name(inp) == expected


@pytest.mark.parametrize("inp, expected", [("ship", "ships"), ("bus", "buses"), ("lorry", "lorries"), ("bay", "bays")])
def test_plural(inp, expected):
    assert plural(inp) == expected


def test_lettered():
    assert lettered(["a", "b"]) == "A. a\nB. b"
