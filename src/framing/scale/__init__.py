"""Beyond one process's memory: labelling Parquet or JSON-lines shards on Dask
(``shards``) and training from chunks of a file larger than memory (``stream``).

May import ``core`` … ``pipeline``. ``predict_shards`` (framing 0.2's
``framing.scale.predict_shards``) is still found here.
"""


def __getattr__(name: str):
    if name == "predict_shards":
        from framing.scale.shards import predict_shards

        return predict_shards
    raise AttributeError(f"module 'framing.scale' has no attribute {name!r}")
