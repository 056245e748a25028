{
  "targets": [
    {
      "target_name": "kmon",
      "sources": ["src/addon.cc"],
      "include_dirs": ["src", "node_modules/@kmon/driver/include"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/linux/ebpf_backend.cc"],
          "include_dirs": ["node_modules/@kmon/driver/linux", "node_modules/@kmon/driver/linux/build"],
          "libraries": ["-lbpf", "-lelf", "-lz"]
        }]
      ]
    }
  ]
}
