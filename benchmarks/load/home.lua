-- wrk script: the home feed of a random demo user (user-00000 .. user-01999).
math.randomseed(42)
request = function()
  local user = string.format("user-%05d", math.random(0, 1999))
  return wrk.format("GET", "/v1/users/" .. user .. "/recommendations?count=20")
end
