"""The commented starter spec that ``regc init`` writes."""

from __future__ import annotations

STARTER = """\
# yaml-language-server: $schema=registry.schema.json
# A regc spec: `regc build` compiles it into every file the registry, the
# Docker hosts and Humpback need. Create the schema beside it for completion
# in your editor with: regc schema > registry.schema.json

registry:
  # Host name or IP address Docker hosts and Humpback use (no scheme, no port).
  server: 192.168.1.10
  # port: 5000                       # published on the registry host
  # image: registry:2.5.1            # the tag picks the config dialect
  # container_name: registry
  # restart: always
  # data_dir: /var/lib/registry      # host folder holding the images
  # config_path: /etc/docker/registry/config.yml
  # log_level: info
  # cors:                            # Humpback's browser reads the registry
  #   enabled: true
  #   allow_origins: ['*']

humpback:
  enabled: true                      # show the Hub menu in Humpback
  # url: http://humpback.example.com:8012
  # cluster_mode: false
  # center_api: http://192.168.1.20:8589
  # top_news: ''
"""


def starter_spec() -> str:
    return STARTER
