"""Planning: workload, districts per person, postman tours and routes, route sheets and signboards."""
