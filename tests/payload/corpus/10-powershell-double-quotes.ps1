curl.exe --request POST "https://platform.adobe.io/ajo/im/executions/unitary" `
  --header "Authorization: Bearer $env:ACCESS_TOKEN" `
  --header "x-api-key: $env:API_KEY" `
  --header "x-gw-ims-org-id: 0123456789ABCDEF01234567@AdobeOrg" `
  --header "x-sandbox-name: prod" `
  --header "Content-Type: application/json" `
  --data "{`"requestId`":`"corpus-1`",`"campaignId`":`"10e2583b-4d1d-4b57-bd6e-fdc79405d67d`",`"recipients`":[{`"type`":`"aep`",`"namespace`":`"email`",`"userId`":`"someone@example.com`",`"channelData`":{`"emailAddress`":`"someone@example.com`"},`"context`":{`"offerCode`":`"THANKSGIVING`"}}]}"
