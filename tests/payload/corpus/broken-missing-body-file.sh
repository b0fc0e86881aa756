curl -X POST https://platform.adobe.io/ajo/im/executions/unitary \
  -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ' \
  --data-binary @no-such-body.json
