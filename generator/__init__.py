"""sitegen: a static website linking children's drawings to the artworks they re-create."""

__version__ = "0.1.0"
