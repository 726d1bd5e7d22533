-- wrk script: analogs of a random demo item (item-000000 .. item-002999).
math.randomseed(42)
request = function()
  local item = string.format("item-%06d", math.random(0, 2999))
  return wrk.format("GET", "/v1/items/" .. item .. "/analogs?count=20")
end
