"""Vector store: Qdrant Edge (embedded) and qdrant-client (server) behind one interface."""
