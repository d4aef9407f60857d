"""What several pages use: store context, selection, sidebar, caches, markdown names, tables."""
