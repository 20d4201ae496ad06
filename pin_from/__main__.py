"""``python -m pin_from``: the pin-from hook (``python -m pin_from --help``)."""
from pin_from.pin import main

if __name__ == '__main__':
    raise SystemExit(main())
