# Footprints: `make run` serves the demo, `make test` runs the whole suite.
.PHONY: setup run stop test chaos lint format bench

setup:
	bash scripts/setup.sh

run: setup
	bash scripts/run.sh

stop:
	bash scripts/services.sh stop

test: setup
	bash scripts/test.sh $(PYTEST_ARGS)

chaos: setup
	bash scripts/test.sh -m chaos $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: setup
	bash -c 'source scripts/lib.sh && scripts/services.sh start rabbitmq s3 && python bench/pipeline.py && python bench/upload.py && python bench/judging.py && python bench/score_form.py && python bench/images.py'
