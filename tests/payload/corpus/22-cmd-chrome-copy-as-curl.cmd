curl ^"https://platform.adobe.io/ajo/im/executions/unitary^" ^
  -H ^"accept: application/json^" ^
  -H ^"authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ^" ^
  -H ^"content-type: application/json^" ^
  -H ^"x-api-key: corpusapikey0123456789abcdef^" ^
  -H ^"x-gw-ims-org-id: 0123456789ABCDEF01234567^@AdobeOrg^" ^
  -H ^"x-sandbox-name: prod^" ^
  --data-raw ^"^{^

    ^\^"requestId^\^": ^\^"corpus-1^\^",^

    ^\^"campaignId^\^": ^\^"10e2583b-4d1d-4b57-bd6e-fdc79405d67d^\^",^

    ^\^"recipients^\^": ^[^

        ^{^

            ^\^"type^\^": ^\^"aep^\^",^

            ^\^"namespace^\^": ^\^"email^\^",^

            ^\^"userId^\^": ^\^"someone^@example.com^\^",^

            ^\^"channelData^\^": ^{^

                ^\^"emailAddress^\^": ^\^"someone^@example.com^\^"^

            ^},^

            ^\^"context^\^": ^{^

                ^\^"offerCode^\^": ^\^"THANKSGIVING^\^"^

            ^}^

        ^}^

    ^]^

^}^" ^
  --compressed
