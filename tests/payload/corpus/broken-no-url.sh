curl -X POST \
  -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ' \
  -d '{"requestId":"corpus-1","campaignId":"10e2583b-4d1d-4b57-bd6e-fdc79405d67d","recipients":[{"type":"aep","namespace":"email","userId":"someone@example.com","channelData":{"emailAddress":"someone@example.com"},"context":{"offerCode":"THANKSGIVING"}}]}'
