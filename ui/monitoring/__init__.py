"""The Monitoring page's sections: where recent data comes from, the report it shows, its cache."""
