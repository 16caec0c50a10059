select 'c-1' as chat_id, 'plain' as kind, 'Dana: Hi, how can I help?
Lee: My order is late.' as body
