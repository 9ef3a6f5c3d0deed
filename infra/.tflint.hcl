# tflint with its bundled terraform ruleset only (this machine cannot download plugins), every
# rule of it on. Run from infra/ with `tflint --recursive` (infra/check does).
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
