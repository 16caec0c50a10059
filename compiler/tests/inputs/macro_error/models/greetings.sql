select
  {{ boom() }} as greeting
