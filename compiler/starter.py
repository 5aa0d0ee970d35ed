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
  # Features; `regc schema` describes them all (auth, proxy, storage, ...).
  # delete: true                     # allow deletes; writes registry/gc.sh
  # tls:                             # HTTPS: hosts need no insecure flag
  #   certificate: /etc/registry/tls/registry.crt
  #   key: /etc/registry/tls/registry.key
  # http_secret: {file: /etc/registry/http-secret}   # or {env: NAME}

# Docker hosts to configure; without this list, the guide's four folders.
# hosts:
#   - name: web                      # folder hosts/web/
#     os: centos7                    # centos6 centos7 ubuntu-upstart
#                                    # ubuntu-systemd debian any
#     docker: '18.09.3'              # as `docker version` prints it
#     package: docker-ce             # distribution docker-engine docker-ce
#     machines: [web1.example.com, web2.example.com]

humpback:
  enabled: true                      # show the Hub menu in Humpback
  # url: http://humpback.example.com:8012
  # cluster_mode: false
  # center_api: http://192.168.1.20:8589
  # top_news: ''
"""


def starter_spec() -> str:
    return STARTER
