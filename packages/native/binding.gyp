{
  "targets": [
    {
      "target_name": "kmon",
      "sources": ["src/addon.cc"],
      "include_dirs": ["src", "driver"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/linux/ebpf_backend.cc"],
          "libraries": ["-lbpf", "-lelf", "-lz"]
        }]
      ]
    }
  ]
}
