select * from (values ('c1', 'jane@example.com', '020 7946 0018', 'Doe')) v(record_id, email, phone, last_name)
