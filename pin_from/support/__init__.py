"""Staying supported: docker-library official-images ``library/<name>`` files and docs notices, and their sources."""

# where library/<name> and <name>/deprecated.md come from by default (here, so that building the options of a
# run that reads neither does not import the sources module)
DEFAULT_LIBRARY_URL = 'https://raw.githubusercontent.com/docker-library/official-images/HEAD/library/'
DEFAULT_DOCS_URL = 'https://raw.githubusercontent.com/docker-library/docs/HEAD/'
