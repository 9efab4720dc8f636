"""How many worker processes, and how many ONNX Runtime threads each: ``workers`` and
``intra_op_threads``, sized to the machine.

A number in the configuration is used as given. ``auto``:

- On the CPU, a short calibration runs the real engine on a few of Helios's own sample
  files with each candidate pair (workers x threads) that fits the cores (on 2 cores:
  1x2 and 2x1), measures files/s and keeps the fastest. The result is cached per model
  folder identity, provider, CPU model, core count, onnxruntime-genai version, batching
  and max_batch_size in the per-user cache folder, so it runs once per machine and model. It is bounded in time
  and never stops a run: when it fails, the old rule (one worker, the runtime's own
  thread count) is used and the log says why. A failure is cached too, so later runs
  start at once with one worker; ``helios config calibrate`` measures again.
- On CUDA, one worker per GPU, or more when every GPU's free memory holds more copies
  of the model (``gpu_workers`` and ``gpu_plan``, plain functions of the numbers NVML
  reports). Workers go to the GPUs round-robin, so each GPU gets the count the
  fullest one holds.
- With the ``openai`` engine, one worker (it keeps ``max_concurrency`` requests in flight).

``Sizing`` carries the numbers and one sentence saying why; the supervisor logs it, puts
it in the ``run_started`` event and the run summary, and ``helios config show`` prints it.

The parts: ``rules`` (pure functions of numbers), ``machine`` (facts read from this
machine), ``cache`` (the per-user calibration cache), ``calibration`` (the measurement)
and ``decision`` (what a run uses).
"""

from .cache import (CACHE_NAME, CACHE_VERSION, _key_id, _read_cache, _write_cache,  # noqa: F401
                    cache_file, cached, calibration_key, failed_text, model_identity)
from .calibration import (BUDGET_S, MIN_SECONDS, SAMPLE_FILES, CalibrationError,  # noqa: F401
                          CalibrationInterrupted, _calibration_child, calibrate, measure,
                          sample_paths)
from .decision import decide, note_for_show, will_calibrate  # noqa: F401
from .machine import available_memory, cpu_cores, cpu_model, genai_version  # noqa: F401
from .rules import (GPU_HEADROOM, MAX_CANDIDATES, MAX_GPU_WORKERS, Sizing,  # noqa: F401
                    candidates, fallback, gpu_plan, gpu_workers, memory_workers)
