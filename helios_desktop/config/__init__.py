"""Configuration: shipped defaults, YAML files, environment variables, command-line overrides.

Every value remembers where it came from, so ``helios config show`` can say.
Validation names the key, the bad value and what is allowed; unknown keys are
refused (with a suggestion when one is close).

The parts: ``fields`` (each setting's check), ``urls`` (model servers' URLs), ``settings``
(the effective values) and ``sources`` (defaults, files, environment, --set, saving).
"""

from .fields import FIELDS, PROVIDERS, ConfigError, validate_value  # noqa: F401
from .settings import Settings  # noqa: F401
from .sources import (ENV_PREFIX, PRECEDENCE, config_file_in_use, env_settings,  # noqa: F401
                      load_settings, parse_override, save_user_settings, user_config_path)
from .urls import check_endpoint_url, endpoint_label, is_loopback  # noqa: F401
