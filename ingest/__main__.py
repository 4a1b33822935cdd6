from ingest.cli import main

# Guarded: the extraction pool spawns workers, which import the main module again.
if __name__ == "__main__":
    raise SystemExit(main())
